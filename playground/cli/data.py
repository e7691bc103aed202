"""python -m playground datasets / prepare: which datasets there are, and getting one onto this machine."""

from __future__ import annotations

import json

from playground.cli.common import download_bar


def register(sub) -> None:
    from playground import datasets

    d = sub.add_parser("datasets", help="list datasets: shape, classes, available or not, source")
    d.add_argument("--json", action="store_true", help="one JSON object on stdout")
    d.set_defaults(func=cmd_datasets)

    pr = sub.add_parser("prepare", help="copy or download a dataset into $PLAYGROUND_HOME/data")
    pr.add_argument("--dataset", default=datasets.DEFAULT_DATASET)
    pr.set_defaults(func=cmd_prepare)


def cmd_datasets(args) -> int:
    from playground import datasets

    rows = []
    for meta in datasets.REGISTRY.values():
        available, source = datasets.status(meta.name)
        rows.append(
            {
                "name": meta.name,
                "title": meta.title,
                "input_shape": list(meta.input_shape),
                "num_classes": meta.num_classes,
                "classes": list(meta.classes),
                "train_size": meta.train_size,
                "test_size": meta.test_size,
                "available": available,
                "source": source,
            }
        )
    if args.json:
        print(json.dumps({"datasets": rows}, indent=2))
    else:
        for r in rows:
            shape = "x".join(map(str, r["input_shape"]))
            print(f"{r['name']:<16} {shape:<9} {r['num_classes']} classes  {'available' if r['available'] else 'missing  '}  {r['source']}")
    return 0


def cmd_prepare(args) -> int:
    from playground import datasets

    folder = datasets.prepare(args.dataset, download_bar())
    ds = datasets.load(args.dataset)
    print(f"{ds.info.title}: {len(ds.x_train)} training and {len(ds.x_test)} test images in {folder}")
    return 0
