"""Planning an evaluation: design diagnosis by simulation (and the designs' analytic power)."""
