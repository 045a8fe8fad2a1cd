"""The portfolio page across every evaluated study, and the council's project catalogue."""
