"""Surveys (brugermålinger) scored on a declared Likert scale: descriptive, no effect claim."""
