// Postgres module: see DESIGN.md section 2.
