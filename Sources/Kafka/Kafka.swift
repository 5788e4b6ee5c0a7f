// Kafka module: see DESIGN.md section 2.
