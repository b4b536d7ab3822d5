"""Credit commitments (信用承诺): templates as dated data, signing, public display, breach (E-III.1)."""
