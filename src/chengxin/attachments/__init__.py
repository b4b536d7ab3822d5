"""Files a subject or a clerk attaches to a case (objection evidence, repair proof, minutes …)."""
