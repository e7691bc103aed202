"""python -m playground backprop: a one-hidden-layer network's forward pass, every gradient and one
SGD step worked by hand, each value checked against autograd (playground.worked)."""

from __future__ import annotations

import json


def register(sub) -> None:
    from playground import backprop

    b = sub.add_parser("backprop", help="forward values, every gradient and one SGD step by hand, checked against autograd")
    b.add_argument("--sizes", default="2,3,2", help="inputs,hidden units,classes (one hidden layer), e.g. 2,3,2")
    b.add_argument("--x", required=True, help="a sample, e.g. \"0.5,-1.2\"; a mini-batch: samples apart by ';' (gradients averaged)")
    b.add_argument("--y", required=True, help='the class label of each sample (0 to classes-1), e.g. 1 or "1,0"')
    b.add_argument(
        "--weights", metavar="FILE.json", help="W_h, b_h, W_y, b_y as nested lists, W as [out, in] (default: random with --seed)"
    )
    b.add_argument("--seed", type=int, default=0, help="the random first weights' seed (PyTorch's nn.Linear initialisation)")
    b.add_argument("--activation", default="tanh", choices=[a for a in backprop.ACTIVATIONS if a != "none"])
    b.add_argument("--loss", default="cross-entropy", choices=list(backprop.LOSSES))
    b.add_argument("--lr", type=float, default=0.1, help="the SGD step's learning rate")
    b.add_argument("--json", action="store_true", help="every value by name (h_tilde, ..., grad_b_h), the weights after the step")
    b.set_defaults(func=cmd_backprop)


def cmd_backprop(args) -> int:
    from playground import worked

    sizes = worked.parse_sizes(args.sizes)
    weights = worked.load_weights(args.weights, sizes) if args.weights else None
    e = worked.example(sizes, args.x, args.y, weights, args.seed, args.activation, args.loss, args.lr)
    w = worked.work(e)
    if args.json:
        print(json.dumps(w.to_dict(), indent=2))
        return 0
    print(f"A {'-'.join(map(str, sizes))} network, {args.activation}, {args.loss}, {len(e.x)} sample(s), lr {e.lr:g}")
    for title, quantities in (("Forward", w.forward), ("Backward", w.backward)):
        print(f"\n{title}")
        for q in quantities:
            mark = "equals autograd" if q.checked else f"DIFFERS from autograd by {q.difference:.3g}"
            print(f"  {q.formula}\n    = {q.substituted}\n    ({mark})")
    print(f"\n{w.notes['activation']}; {w.notes['loss']}")
    print(f"\nOne SGD step, W <- W - {e.lr:g} dL/dW:")
    for name, t in w.weights_after.items():
        print(f"  {name} = {worked.written(t)}")
    print(f"Loss on the same sample(s): {w.forward[4].value:.6g} -> {w.loss_after:.6g}")
    return 0
