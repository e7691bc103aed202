"""AppTest of the Model page: the layer table, a custom input shape, predict-then-check, ResNet-18."""

import pytest

from tests.apptest import app

pytestmark = pytest.mark.usefixtures("no_leftover_jobs")


def test_layer_table_of_the_course_cnn(home):  # metadata only: no dataset files anywhere
    at = app("app_pages/model.py")
    assert at.title[0].value == "Model anatomy"
    at.selectbox(key="preset").set_value("cnn").run()
    assert not at.exception and not at.error
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Trainable parameters"] == "1,475,338" and metrics["Running statistics"] == "192"
    df = at.dataframe[0].value
    conv = df.iloc[0]
    assert (conv["layer"], conv["output shape"], conv["parameters"]) == ("Conv2d(1, 32, kernel_size=3, padding=1)", "32 x 28 x 28", 320)
    assert (conv["formula"], conv["worked"]) == ("(k*k*C_in + 1)*C_out", "(3*3*1 + 1)*32 = 320")
    assert df.iloc[1]["running stats"] == "2*32 = 64"
    assert df["running total"].iloc[-1] == 1_475_338
    assert len(at.get("vega_lite_chart")) == 1  # where the parameters are


def test_custom_input_shape(home):
    at = app("app_pages/model.py")
    at.radio(key="anatomy_input").set_value("custom").run()  # CIFAR-10's shape, 3x32x32 by default
    at.text_input(key="spec_text").input("").run()
    assert {m.label: m.value for m in at.metric}["Trainable parameters"] == "30,730"
    at.selectbox(key="preset").set_value("lenet").run()
    assert {m.label: m.value for m in at.metric}["Trainable parameters"] == "62,006"


def test_predict_then_check_marks_each_answer(home):
    at = app("app_pages/model.py")
    at.selectbox(key="preset").set_value("cnn").run()
    at.toggle(key="quiz_mode").set_value(True).run()
    assert not at.metric  # the answers are hidden
    assert "parameters" not in at.dataframe[0].value.columns
    guesses = [t for t in at.text_input if t.key and t.key.startswith("guess-")]
    assert len(guesses) == 8  # conv, bn, conv, bn, three Linear layers, and the total
    # in page order (the order Tab follows): layer by layer, then the total
    assert [t.label.split(" ")[0] for t in guesses] == ["#0", "#1", "#4", "#5", "#9", "#12", "#14", "Total"]
    by_label = {t.label.split(" ")[0]: t for t in guesses}
    by_label["#0"].input("320")  # right
    by_label["#1"].input("128")  # wrong: BatchNorm2d(32) trains 2*32
    by_label["Total"].input("1,475,338")  # right, with a thousands separator
    at.button[-1].click().run()  # Check
    result = at.dataframe[-1].value
    verdicts = dict(zip(result["layer"], result["verdict"]))
    assert verdicts["#0 Conv2d(1, 32, kernel_size=3, padding=1)"] == "right"
    assert verdicts["#1 BatchNorm2d(32)"] == "wrong"
    assert verdicts["Total"] == "right"
    assert verdicts["#4 Conv2d(32, 64, kernel_size=3)"] == "no answer"
    assert result.set_index("layer").loc["#1 BatchNorm2d(32)", "worked"] == "2*32 = 64"
    assert result.set_index("layer").loc["Total", "worked"] == "the sum of the 7 rows above"  # the long sum is a caption
    assert "Total: 320 + 64 + 18,496 + 128 + 1,383,000 + 72,120 + 1,210 = 1,475,338." in [c.value for c in at.caption]
    assert "2 of 8 right" in at.warning[0].value


def test_resnet18_table_needs_no_download(home):
    at = app("app_pages/model.py")
    at.selectbox(key="preset").set_value("resnet18").run()
    assert not at.exception and not at.error
    assert {m.label: m.value for m in at.metric}["Trainable parameters"] == "11,181,642"
    assert "ResNet-18 is torchvision's network" in at.info[0].value
    df = at.dataframe[0].value
    assert df.iloc[-1]["layer"] == "fc: Linear  (new head)" and df.iloc[-1]["worked"] == "(512 + 1)*10 = 5,130"
