"""Consumer complaints about shops (电商投诉举报): the departments' intake that the shop risk warning and the
platform assessment count (issue #7; MISSION.md capability 14, its e-commerce part)."""
