"""The staff console (办理台): every case queue with its open, due-soon and overdue counts."""
