// Imaging module: see DESIGN.md section 2.
