"""The workcell world model's training pipeline: train, export (to the model contract), eval_report, plot_loss
(README.md here; scripts/train-workcell runs it end to end)."""
