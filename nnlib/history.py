"""History: the per-epoch metrics that ``Sequential.fit`` returns."""


class History:
    """``history["loss"]`` is the list of training losses, one per epoch;
    likewise "accuracy", "val_loss", "val_accuracy" when they were computed."""

    def __init__(self):
        self.history = {}

    def append(self, metrics):
        for key, value in metrics.items():
            self.history.setdefault(key, []).append(value)

    def __getitem__(self, key):
        if key not in self.history:
            raise KeyError(
                f"this History has no {key!r}; it has {sorted(self.history)} ("
                f"'accuracy' is recorded for loss='cross_entropy', 'val_*' with validation_data)."
            )
        return self.history[key]

    def __contains__(self, key):
        return key in self.history

    def __len__(self):
        return len(self.history.get("loss", []))

    def last(self):
        """The metrics of the final epoch, as a dict."""
        return {k: v[-1] for k, v in self.history.items()}

    def __repr__(self):
        last = ", ".join(f"{k}={v:.4g}" for k, v in self.last().items() if v is not None)
        return f"History({len(self)} epochs; last: {last})"
