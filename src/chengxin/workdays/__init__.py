"""Working days (工作日): the holiday schedule and deadline arithmetic every deadline uses."""
