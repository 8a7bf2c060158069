"""Config edits several configs share (imported by config files; no torch)."""


def with_colour_anchor(loader, colour_anchor) -> dict:
    """The override of a detector dataloader config (a ``ConcatDataset`` of onset and
    source sets) that gives every ``BleedOnsetDataset`` the colour anchor
    ``colour_anchor``; the model's ``colour_anchor`` must be the same (the stream turns
    frames by it, ``BleedOriginDetector.predict`` checks it)."""
    return dict(dataset=dict(datasets=[
        dict(d, colour_anchor=colour_anchor) if d['type'] == 'BleedOnsetDataset' else d
        for d in loader['dataset']['datasets']]))
