"""红黑名单 — red list (守信激励), serious-dishonesty list (严重失信主体名单) and watch list (重点关注名单)."""
