"""Credit reports (信用报告): HTML/PDF rendering, Ed25519 signing and verification (issue 3 part 5)."""
