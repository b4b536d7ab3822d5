"""信用修复 (credit repair, issue #4 §2): eligibility by the rules in force, applications with proof
and a signed credit commitment, the source department's decision within working-day deadlines, and
the stop of public display (停止公示) on approval."""
