// Pipeline module: see DESIGN.md section 2.
