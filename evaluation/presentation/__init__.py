"""Danish presentation primitives every report part uses: numbers, dates and intervals in Danish,
markdown tables and plot helpers. Nothing here knows a design, a study or a bundle."""
