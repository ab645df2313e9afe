"""What the six stages do, free of Airflow: the operators call these with a StageContext."""
