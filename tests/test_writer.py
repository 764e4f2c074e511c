"""SourceWriter: the one owner of indentation in generated code."""
from symkb.lower.writer import SourceWriter


def test_blocks_indent_and_dedent():
    w = SourceWriter(1)
    with w.block("for i in range(3):"):
        w.line("x = i")
    w.line("y = 0")
    assert w.lines == ["    for i in range(3):", "        x = i", "    y = 0"]


def test_call_fits_on_one_line_when_short():
    w = SourceWriter(1)
    w.call("f", ["a", "b", 3], ":")
    assert w.lines == ["    f(a, b, 3):"]


def test_long_calls_wrap_before_the_width_with_a_deeper_indent():
    w = SourceWriter(1)
    args = [f"argument_{k}" for k in range(12)]
    w.call("def some_function", args, ":", width=60)
    assert all(len(line) <= 60 for line in w.lines)
    assert w.lines[0].startswith("    def some_function(argument_0, ")
    assert all(line.startswith("        argument_") for line in w.lines[1:])
    assert w.lines[-1].endswith("argument_11):")
    joined = " ".join(line.strip() for line in w.lines)
    assert joined == "def some_function(" + ", ".join(args) + "):"
    compile("\n".join(line[4:] for line in w.lines) + "\n    pass\n", "<w>", "exec")
