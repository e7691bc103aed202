"""AppTest of the Convolution arithmetic page: the calculators, the receptive field, a convolution by hand."""

import pytest

from tests.apptest import app

pytestmark = pytest.mark.usefixtures("no_leftover_jobs")


def test_conv_calculators(home):
    at = app("app_pages/conv.py")
    assert not at.exception and at.title[0].value == "Convolution arithmetic"
    at.radio(key="calc_kind").set_value("Kernel size from sizes").run()
    at.number_input(key="cW").set_value(512).run()
    at.number_input(key="cO").set_value(508).run()
    assert "**5**" in at.success[0].value
    assert "K = 512 + 2*0 - (508 - 1)*1 = 5" in at.code[0].value
    at.radio(key="calc_kind").set_value("Padding that keeps the size").run()
    at.number_input(key="cK").set_value(4).run()
    assert "not a whole number" in at.error[0].value  # explained, not crashed on


def test_receptive_field_of_the_current_model(home):
    # starts on the Model page (the model is chosen there), ends on the Conv page
    at = app("app_pages/model.py")
    at.selectbox(key="preset").set_value("lenet").run()
    at.switch_page("app_pages/conv.py").run()
    rf = at.dataframe[0].value
    assert list(rf["receptive field r"]) == ["5x5", "6x6", "14x14", "16x16"]
    assert rf["worked"].iloc[2] == "r = 6 + (5 - 1)*2 = 14;  j = 2*1 = 2"


def test_convolution_by_hand(home):
    at = app("app_pages/conv.py")
    at.button[0].click().run()  # the Sobel example
    assert not at.exception
    assert at.text_area(key="conv_kernel").value == "-1 0 1\n-2 0 2\n-1 0 1"
    assert "same output" in at.success[-1].value
    frames = [d.value for d in at.dataframe if d.value.shape == (3, 3)]
    assert frames[0].values.tolist()[0] == ["-1", "0", "1"] and frames[1].values.tolist()[0] == ["1", "0", "-1"]  # as entered, flipped
    at.slider(key="conv_cell").set_value(8).run()  # row 1, column 2 of the 5x5 output
    assert any(c.value.startswith("out[1][2] = ") for c in at.code)
    at.radio(key="conv_mode").set_value("correlation").run()
    assert "same output" in at.success[-1].value
    at.text_area(key="conv_image").input("1 2; 3").run()
    assert "different lengths" in at.error[0].value
