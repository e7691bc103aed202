"""AppTest of the Backprop page: quantities one at a time, each checked against autograd, the SGD
step, typed weights, a link's inputs, bad input named."""

import json

from tests.apptest import app

PAGE = "app_pages/backprop.py"


def checks(at) -> list[str]:
    return [s.value for s in at.success if s.value.startswith("Equals autograd's")]


def test_next_back_and_all_then_the_sgd_step():
    at = app(PAGE)
    assert not at.exception and at.title[0].value == "Backprop by hand"
    assert checks(at) == ["Equals autograd's h~: the largest difference is " + checks(at)[0].rsplit(" ", 1)[1]]
    assert "h~ = W_h x + b_h\n  = [[" in at.code[0].value and "[0.5, -1.2]" in at.code[0].value
    at.button(key="bp_next").click().run()
    assert [c.split(":")[0] for c in checks(at)] == ["Equals autograd's h~", "Equals autograd's h"]
    at.button(key="bp_back").click().run()
    assert len(checks(at)) == 1
    at.button(key="bp_all").click().run()
    assert len(checks(at)) == 11 and not at.error
    assert [h.value for h in at.subheader] == ["Forward", "Backward", "One SGD step"]
    loss = [m for m in at.metric if m.label == "Loss on the same sample(s)"]
    assert loss and float(loss[0].value) < float(next(m.value for m in at.metric if m.label == "L"))  # lr 0.1: the step helps


def test_a_link_sets_the_network_and_the_batch():
    at = app(PAGE, {"bpsizes": "3,4,2", "bpx": "1,2,3; 0,0,1", "bpy": "1,0", "bpact": "relu", "bploss": "mse"})
    assert not at.exception and not at.warning
    at.button(key="bp_all").click().run()
    assert len(checks(at)) == 11
    assert "(sample 1)" in at.code[0].value  # a batch: the first sample's numbers are written out
    assert "dL/dy~ = y^ * (g - sum(y^ g))" in at.code[5].value  # squared error goes through the softmax
    assert "relu'(h~)" in at.code[8].value


def test_typed_weights_are_used_and_bad_ones_named():
    at = app(PAGE)
    at.toggle(key="bp_typed").set_value(True).run()
    box = at.text_area(key="bp_weights_box")
    seeded = json.loads(box.value)
    assert set(seeded) == {"W_h", "b_h", "W_y", "b_y"} and len(seeded["W_h"]) == 3  # filled with the seeded weights
    weights = {"W_h": [[1, 0], [0, 1], [1, 1]], "b_h": [0, 0, 0], "W_y": [[1, 0, 0], [0, 1, 0]], "b_y": [0, 0]}
    box.input(json.dumps(weights)).run()
    assert not at.error and "[[1, 0], [0, 1], [1, 1]] [0.5, -1.2] + [0, 0, 0] = [0.5, -1.2, -0.7]" in at.code[0].value
    at.text_area(key="bp_weights_box").input('{"W_h": [[1, 0]]}').run()
    assert at.error and "the typed weights: W_h is 1 x 2, the sizes 2,3,2 need 3 x 2" in at.error[0].value
    at.text_area(key="bp_weights_box").input("{oops").run()
    assert "the typed weights are not JSON (line 1, column 2)" in at.error[0].value
    assert not at.exception


def test_bad_inputs_are_one_message_each():
    at = app(PAGE)
    at.text_input(key="bp_x").input("1,2,3").run()
    assert at.error[0].value == "x '1,2,3': each sample needs 2 numbers (the network has 2 inputs), samples apart by ';'"
    at.text_input(key="bp_x").input("1,2").run()
    at.text_input(key="bp_sizes").input("2,3").run()
    assert "must be three numbers" in at.error[0].value and not at.exception


def test_points_from_the_circles_set_fill_x_and_y():
    at = app(PAGE, {"bpx": "0,0; 1,1; 2,2", "bpy": "0,1,0", "bpsizes": "2,5,3"})
    at.button(key="bp_from_toy").click().run()
    x, y = at.text_input(key="bp_x").value, at.text_input(key="bp_y").value
    assert len(x.split(";")) == 3 and x != "0,0; 1,1; 2,2" and set(y.split(",")) <= {"0", "1"} and len(y.split(",")) == 3
    assert at.text_input(key="bp_sizes").value == "2,5,2" and not at.error and not at.exception


def test_a_bad_link_value_is_named_in_the_widgets_words():
    at = app(PAGE, {"bplr": "0", "bpact": "gelu"})
    assert not at.exception
    said = at.warning[0].value
    assert "`bplr=0`: learning rate = 0.0 is not allowed: learning rate must be a number above 0" in said and "bp_lr" not in said
    assert "`bpact=gelu`: activation = 'gelu' is not allowed" in said and "used tanh instead" in said
