#!/usr/bin/env python3
"""Builds the ONNX import fixtures in tests/fixtures/onnx/.

Small PyTorch models with random (seeded) weights are exported with
`torch.onnx.export` (the TorchScript exporter, `dynamo=False`, and where it
works the current one, `dynamo=True`); for each, deterministic inputs
(float16 NPY, 500 samples: the converter calibrates on the first 80% and
checks int8 top-1 agreement on the rest) and onnxruntime's float32 outputs
on them are written beside it. `cargo test` reads only the committed files.

Setup (outside the repository):
    python3 -m venv /work/venv-onnx
    /work/venv-onnx/bin/pip install torch onnx onnxruntime onnxscript numpy
Run from the repository root:
    /work/venv-onnx/bin/python scripts/onnx_fixtures.py
or, for only the recurrent fixtures (LSTM, GRU):
    /work/venv-onnx/bin/python scripts/onnx_fixtures.py --recurrent
or the LSTM trained on data/basicmotions_*.csv
(examples/onnx/basicmotions_lstm.onnx and .json):
    /work/venv-onnx/bin/python scripts/onnx_fixtures.py --basicmotions
"""

import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
import torch
from torch import nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "onnx")
SAMPLES = 500


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 6))

    def forward(self, x):
        return self.net(x)


class Cnn(nn.Module):
    """Conv+BN+ReLU, depthwise+BN+ReLU6, residual Add, pooling, Flatten, Gemm."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(2, 8, 3, padding=1)
        self.b1 = nn.BatchNorm2d(8)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False)
        self.b2 = nn.BatchNorm2d(8)
        self.pw = nn.Conv2d(8, 8, 1)
        self.pool = nn.MaxPool2d(2)
        self.c3 = nn.Conv2d(8, 12, 3, stride=2, padding=1)
        self.avg = nn.AvgPool2d(2)
        self.fc0 = nn.Linear(12 * 4, 24)
        self.head = nn.Linear(24, 5)

    def forward(self, x):
        x = torch.relu(self.b1(self.c1(x)))  # [8, 8, 8]
        y = nn.functional.relu6(self.b2(self.dw(x)))
        x = x + self.pw(y)  # residual
        x = self.pool(x)  # [8, 4, 4]
        x = torch.relu(self.c3(x))  # [12, 2, 2]
        x = torch.flatten(x, 1)  # CHW order: 48
        x = torch.relu(self.fc0(x))
        return self.head(x)


class Misc(nn.Module):
    """GlobalAveragePool, ReduceMean, Concat, Sub/Mul/Div with constants,
    LeakyReLU, Sigmoid, Tanh, MatMul+Add, view(size(0), -1), Softmax."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 6, 3, padding=1)
        self.c2 = nn.Conv2d(3, 4, 1)
        self.bn = nn.BatchNorm2d(10)
        self.w = nn.Parameter(torch.randn(40, 8) * 0.3)
        self.b = nn.Parameter(torch.randn(8) * 0.1)
        self.fc = nn.Linear(10, 4)
        self.mean = nn.Parameter(torch.randn(1, 3, 1, 1) * 0.1, requires_grad=False)

    def forward(self, x):
        x = (x - self.mean) * 1.5
        a = nn.functional.leaky_relu(self.c1(x), 0.1)
        b = torch.sigmoid(self.c2(x))
        x = self.bn(torch.cat([a, b], dim=1))  # [10, 4, 4], BN not after a conv
        g = nn.functional.adaptive_avg_pool2d(x, 1).view(x.size(0), -1)  # GlobalAveragePool
        m = x.mean(dim=(2, 3))  # ReduceMean
        h = torch.tanh(self.fc(g + m / 2.0))
        p = nn.functional.avg_pool2d(x, 2)  # [10, 2, 2]
        p = p[:, :, :, :].reshape(p.size(0), -1)[:, :40]
        z = p @ self.w + self.b
        return torch.softmax(torch.cat([h, z], dim=1), dim=1)


class LstmClassifier(nn.Module):
    """LSTM over [batch, time, features] (batch first), then a head on the
    last time step of the output sequence: `out[:, -1]`."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(4, 12, batch_first=True)
        self.head = nn.Linear(12, 5)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


class GruClassifier(nn.Module):
    """GRU (PyTorch's: linear_before_reset = 1), head on `h_n[-1]`."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(3, 10, batch_first=True)
        self.head = nn.Linear(10, 4)

    def forward(self, x):
        _, h = self.rnn(x)
        return self.head(h[-1])


class LstmSteps(nn.Module):
    """LSTM whose head reads two time steps of the output sequence, a middle
    one and the last: `cat(out[:, 1], out[:, -1])` (Gather of a time step)."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(3, 8, batch_first=True)
        self.head = nn.Linear(16, 4)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(torch.cat([out[:, 1], out[:, -1]], dim=1))


class Slices(nn.Module):
    """Slices of activations: channels and strided rows/columns of an NCHW
    value (stored channels-last on the device), a reversed and a strided
    range of features."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 6, 3, padding=1)
        self.fc = nn.Linear(4 * 3 * 5, 12)
        self.head = nn.Linear(5, 3)

    def forward(self, x):
        y = torch.relu(self.conv(x))  # [6, 6, 6]
        y = y[:, 1:5, ::2, 1:]  # [4, 3, 5]
        z = torch.tanh(self.fc(torch.flatten(y, 1)))  # [12]
        z = z[:, 2:12:2]  # [5]
        return self.head(z.flip(1)[:, :])


def slices(seed):
    torch.manual_seed(seed)
    return Slices()


def lstm_steps(seed):
    torch.manual_seed(seed)
    return LstmSteps()


def gru_lbr0(seed):
    """A GRU with linear_before_reset = 0 (PyTorch cannot export one),
    written with onnx.helper: X [1, 7, 3] → Transpose (time-major) → GRU →
    Y_h [1, 1, 8] → Squeeze → Gemm → Softmax."""
    from onnx import TensorProto, helper, numpy_helper

    r = np.random.default_rng(seed)
    f = lambda *s: (r.standard_normal(s) * 0.5).astype(np.float32)
    h = 8
    inits = [
        numpy_helper.from_array(f(1, 3 * h, 3), "W"),
        numpy_helper.from_array(f(1, 3 * h, h), "R"),
        numpy_helper.from_array(f(1, 6 * h) * 0.5, "B"),
        numpy_helper.from_array(np.zeros((1, 1, h), np.float32), "h0"),
        numpy_helper.from_array(f(h, 4), "wh"),
        numpy_helper.from_array(f(4) * 0.1, "bh"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axes"),
    ]
    N = helper.make_node
    nodes = [
        N("Transpose", ["input"], ["xt"], perm=[1, 0, 2]),
        N("GRU", ["xt", "W", "R", "B", "", "h0"], ["", "hn"], hidden_size=h, linear_before_reset=0),
        N("Squeeze", ["hn", "axes"], ["hs"]),
        N("Gemm", ["hs", "wh", "bh"], ["logits"]),
        N("Softmax", ["logits"], ["output"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "gru_lbr0",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 7, 3])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 4])],
        inits,
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)], producer_name="onnx_fixtures.py")
    m.ir_version = 7
    onnx.checker.check_model(m)
    return m


def recurrent(seed):
    torch.manual_seed(seed)
    return LstmClassifier() if seed == 10 else GruClassifier()


def randomize_bn(m, g):
    for mod in m.modules():
        if isinstance(mod, nn.BatchNorm2d):
            n = mod.num_features
            mod.weight.data = torch.rand(n, generator=g) + 0.5
            mod.bias.data = torch.randn(n, generator=g) * 0.2
            mod.running_mean.data = torch.randn(n, generator=g) * 0.2
            mod.running_var.data = torch.rand(n, generator=g) + 0.5


def export(model, x, path, dynamo, dynamic_batch=False):
    kw = dict(input_names=["input"], output_names=["output"])
    if dynamo:
        kw["dynamo"] = True
        kw["external_data"] = False
        if dynamic_batch:
            kw["dynamic_shapes"] = ({0: torch.export.Dim("batch")},)
    else:
        kw["dynamo"] = False
        kw["opset_version"] = 13
        if dynamic_batch:
            kw["dynamic_axes"] = {"input": {0: "batch"}, "output": {0: "batch"}}
    torch.onnx.export(model, (x,), path, **kw)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    # Keep the file self-contained and small: no doc strings / stack traces.
    for n in m.graph.node:
        n.doc_string = ""
        del n.metadata_props[:]
    m.graph.doc_string = ""
    onnx.save(m, path)


def inputs(shape, g):
    """Clustered inputs: a few prototypes plus noise, so classifiers have
    clear winners (as on real data) rather than ties everywhere."""
    protos = torch.randn((8,) + shape, generator=g)
    idx = torch.randint(0, 8, (SAMPLES,), generator=g)
    x = protos[idx] + 0.3 * torch.randn((SAMPLES,) + shape, generator=g)
    # Stored as float16; the reference runs on exactly these values.
    return x.to(torch.float16).to(torch.float32)


def reference(path, x):
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return np.concatenate([sess.run(None, {name: x[i : i + 1].numpy()})[0] for i in range(len(x))])


def write(name, model, shape, dynamo, dynamic_batch=False, seed=0, inputs_of=None):
    """Exports `model` as NAME.onnx with NAME_output.npy; the inputs are
    NAME_input.npy, or those of fixture `inputs_of` (same seed, same values)."""
    g = torch.Generator().manual_seed(seed + 1000)
    x = inputs(shape, g)
    path = os.path.join(OUT, f"{name}.onnx")
    model.eval()
    with torch.no_grad():
        export(model, x[:1], path, dynamo, dynamic_batch)
        want = model(x).numpy()
    y = reference(path, x)
    err = np.abs(y - want).max()
    assert err < 1e-4, f"{name}: onnxruntime and torch differ by {err}"
    if inputs_of is None:
        np.save(os.path.join(OUT, f"{name}_input.npy"), x.numpy().astype(np.float16))
    else:
        saved = np.load(os.path.join(OUT, f"{inputs_of}_input.npy"))
        assert np.array_equal(saved.astype(np.float32), x.numpy()), "inputs differ"
    np.save(os.path.join(OUT, f"{name}_output.npy"), y.astype(np.float32))
    print(f"{name}: {os.path.getsize(path)} bytes, ops {sorted({n.op_type for n in onnx.load(path).graph.node})}")


def legacy_opset9(seed):
    """Written with onnx.helper at opset 9 (attributes where later opsets
    take inputs): Conv → BatchNormalization → Clip(0, 6) → Identity →
    depthwise Conv (multiplier 2, stride 2) → BatchNormalization → Relu →
    Dropout → AveragePool (SAME) → Transpose to NHWC → Reshape → MatMul →
    Add → Unsqueeze/Squeeze → Softmax. PyTorch folds BatchNorm itself, so
    this is the fixture for folding it."""
    from onnx import TensorProto, helper, numpy_helper

    r = np.random.default_rng(seed)
    f = lambda *s: r.standard_normal(s).astype(np.float32)
    bn = lambda n, p: [
        numpy_helper.from_array((r.random(n) + 0.5).astype(np.float32), p + "_g"),
        numpy_helper.from_array(f(n) * 0.2, p + "_b"),
        numpy_helper.from_array(f(n) * 0.2, p + "_m"),
        numpy_helper.from_array((r.random(n) + 0.5).astype(np.float32), p + "_v"),
    ]
    inits = [
        numpy_helper.from_array(f(4, 3, 3, 3) * 0.4, "w1"),
        numpy_helper.from_array(f(4) * 0.1, "b1"),
        *bn(4, "bn1"),
        numpy_helper.from_array(f(8, 1, 3, 3) * 0.4, "w2"),
        *bn(8, "bn2"),
        numpy_helper.from_array(f(72, 5) * 0.3, "w3"),
        numpy_helper.from_array(f(5) * 0.1, "b3"),
        numpy_helper.from_array(np.array([1, 72], dtype=np.int64), "shape"),
    ]
    N = helper.make_node
    nodes = [
        N("Conv", ["input", "w1", "b1"], ["c1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        N("BatchNormalization", ["c1", "bn1_g", "bn1_b", "bn1_m", "bn1_v"], ["n1"], epsilon=1e-3),
        N("Clip", ["n1"], ["r1"], min=0.0, max=6.0),
        N("Identity", ["r1"], ["i1"]),
        N("Conv", ["i1", "w2"], ["c2"], group=4, kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2]),
        N("BatchNormalization", ["c2", "bn2_g", "bn2_b", "bn2_m", "bn2_v"], ["n2"]),
        N("Relu", ["n2"], ["r2"]),
        N("Dropout", ["r2"], ["d2"], ratio=0.5),
        N("AveragePool", ["d2"], ["p2"], kernel_shape=[2, 2], pads=[0, 0, 1, 1]),
        N("Transpose", ["p2"], ["t2"], perm=[0, 2, 3, 1]),
        N("Reshape", ["t2", "shape"], ["f2"]),
        N("MatMul", ["f2", "w3"], ["m3"]),
        N("Add", ["m3", "b3"], ["a3"]),
        N("Unsqueeze", ["a3"], ["u3"], axes=[1]),
        N("Squeeze", ["u3"], ["s3"], axes=[1]),
        N("Softmax", ["s3"], ["output"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "legacy",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, 6, 6])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 5])],
        inits,
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 9)], producer_name="onnx_fixtures.py")
    m.ir_version = 4
    onnx.checker.check_model(m)
    return m


def write_handmade(name, m, shape, seed):
    g = torch.Generator().manual_seed(seed + 1000)
    x = inputs(shape, g)
    path = os.path.join(OUT, f"{name}.onnx")
    onnx.save(m, path)
    y = reference(path, x)
    np.save(os.path.join(OUT, f"{name}_input.npy"), x.numpy().astype(np.float16))
    np.save(os.path.join(OUT, f"{name}_output.npy"), y.astype(np.float32))
    print(f"{name}: {os.path.getsize(path)} bytes, ops {sorted({n.op_type for n in m.graph.node})}")


def load_digits(split):
    """data/digits8x8_{split}.csv → (x [N, 1, 8, 8] in [0, 1], labels)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", f"digits8x8_{split}.csv")
    lines = [l for l in open(path) if l.strip() and not l.startswith("#")]
    if not lines[0][0].isdigit():
        lines = lines[1:]  # header
    rows = np.array([[float(v) for v in l.strip().split(",")] for l in lines], dtype=np.float32)
    return torch.from_numpy(rows[:, :64].reshape(-1, 1, 8, 8) / 16.0), torch.from_numpy(rows[:, 64].astype(np.int64))


def train_classifier(m, xtr, ytr, xte, yte, lr, epochs, batch):
    """Adam on cross-entropy over shuffled minibatches; returns the test
    accuracy (model left in eval mode)."""
    opt = torch.optim.Adam(m.parameters(), lr=lr)
    for epoch in range(epochs):
        m.train()
        perm = torch.randperm(len(xtr))
        for i in range(0, len(xtr), batch):
            idx = perm[i : i + batch]
            opt.zero_grad()
            nn.functional.cross_entropy(m(xtr[idx]), ytr[idx]).backward()
            opt.step()
    m.eval()
    with torch.no_grad():
        return (m(xte).argmax(1) == yte).float().mean().item()


def digits_cnn():
    """A small CNN trained on the digits training split, exported with the
    TorchScript exporter (without constant folding, so BatchNorm stays in
    the graph for the importer to fold). Its float test accuracy goes to
    digits_cnn.json for the Rust test to compare against."""
    torch.manual_seed(7)
    xtr, ytr = load_digits("train")
    xte, yte = load_digits("test")
    m = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
        nn.Flatten(), nn.Dropout(0.2), nn.Linear(16 * 4 * 4, 10),
    )
    acc = train_classifier(m, xtr, ytr, xte, yte, lr=3e-3, epochs=40, batch=64)
    path = os.path.join(OUT, "digits_cnn.onnx")
    torch.onnx.export(m, (xte[:1],), path, dynamo=False, opset_version=13, do_constant_folding=False,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    mm = onnx.load(path)
    for n in mm.graph.node:
        n.doc_string = ""
    onnx.save(mm, path)
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    y = np.concatenate([sess.run(None, {"input": xte[i : i + 1].numpy()})[0] for i in range(len(xte))])
    ort_acc = float((y.argmax(1) == yte.numpy()).mean())
    with open(os.path.join(OUT, "digits_cnn.json"), "w") as f:
        f.write(f'{{"torch_test_accuracy": {acc:.6f}, "onnxruntime_test_accuracy": {ort_acc:.6f}, "test_samples": {len(xte)}}}\n')
    print(f"digits_cnn: {os.path.getsize(path)} bytes, torch test accuracy {acc:.4f}, onnxruntime {ort_acc:.4f}, "
          f"ops {sorted({n.op_type for n in mm.graph.node})}")


def load_basicmotions(split):
    """data/basicmotions_{split}.csv: [N, 100 steps, 6 channels] and labels."""
    path = os.path.join(os.path.dirname(OUT), "..", "..", "data", f"basicmotions_{split}.csv")
    rows = [l for l in open(path) if l.strip() and not l.startswith("#")]
    data = np.array([[float(v) for v in r.split(",")] for r in rows], np.float32)
    x = data[:, 1:].reshape(-1, 6, 100).transpose(0, 2, 1)  # channel-major → [N, T, C]
    return torch.tensor(np.ascontiguousarray(x)), torch.tensor(data[:, 0].astype(np.int64))


class MotionLstm(nn.Module):
    """LSTM 6 → 32 over the 100 steps, a linear head on the last step."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(6, 32, batch_first=True)
        self.head = nn.Linear(32, 4)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


def basicmotions_lstm():
    """The LSTM trained on the BasicMotions training split (40 sequences),
    exported with the TorchScript exporter to
    examples/onnx/basicmotions_lstm.onnx; its float test accuracy (PyTorch
    and onnxruntime) goes to basicmotions_lstm.json."""
    torch.manual_seed(3)
    xtr, ytr = load_basicmotions("train")
    xte, yte = load_basicmotions("test")
    m = MotionLstm()
    acc = train_classifier(m, xtr, ytr, xte, yte, lr=1e-2, epochs=150, batch=8)
    out_dir = os.path.join(os.path.dirname(OUT), "..", "..", "examples", "onnx")
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "basicmotions_lstm.onnx")
    export(m, xte[:1], path, dynamo=False)
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    y = np.concatenate([sess.run(None, {"input": xte[i : i + 1].numpy()})[0] for i in range(len(xte))])
    ort_acc = float((y.argmax(1) == yte.numpy()).mean())
    with open(os.path.join(out_dir, "basicmotions_lstm.json"), "w") as f:
        f.write(f'{{"torch_test_accuracy": {acc:.6f}, "onnxruntime_test_accuracy": {ort_acc:.6f}, "test_samples": {len(xte)}}}\n')
    print(f"basicmotions_lstm: {os.path.getsize(path)} bytes, torch test accuracy {acc:.4f}, onnxruntime {ort_acc:.4f}")


def cnn(seed):
    torch.manual_seed(seed)
    m = Cnn()
    randomize_bn(m, torch.Generator().manual_seed(seed))
    return m


def main_recurrent():
    """Only the recurrent fixtures (`--recurrent`): the others' bytes stay."""
    write("lstm_torchscript", recurrent(10), (6, 4), dynamo=False, seed=10)
    write("gru_torchscript", recurrent(11), (5, 3), dynamo=False, seed=11)
    write_handmade("gru_lbr0", gru_lbr0(12), (7, 3), seed=12)
    write("lstm_steps_torchscript", lstm_steps(13), (5, 3), dynamo=False, seed=13)
    write("slices_torchscript", slices(14), (2, 6, 6), dynamo=False, seed=14)
    for name, seed, shape in [("lstm", 10, (6, 4)), ("gru", 11, (5, 3))]:
        try:
            write(f"{name}_dynamo", recurrent(seed), shape, dynamo=True, seed=seed, inputs_of=f"{name}_torchscript")
        except Exception as e:
            print(f"{name}_dynamo: the current exporter failed: {e}", file=sys.stderr)


def main():
    os.makedirs(OUT, exist_ok=True)
    if "--recurrent" in sys.argv:
        main_recurrent()
        return
    if "--basicmotions" in sys.argv:
        basicmotions_lstm()
        return
    torch.manual_seed(0)
    write("mlp", Mlp(), (16,), dynamo=False, dynamic_batch=True, seed=0)
    write("cnn_torchscript", cnn(1), (2, 8, 8), dynamo=False, seed=1)
    write_handmade("legacy_opset9", legacy_opset9(3), (3, 6, 6), seed=3)
    torch.manual_seed(2)
    misc = Misc()
    randomize_bn(misc, torch.Generator().manual_seed(2))
    write("misc_torchscript", misc, (3, 4, 4), dynamo=False, dynamic_batch=True, seed=2)
    digits_cnn()
    try:
        write("cnn_dynamo", cnn(1), (2, 8, 8), dynamo=True, seed=1, inputs_of="cnn_torchscript")
        write("misc_dynamo", misc, (3, 4, 4), dynamo=True, seed=2, inputs_of="misc_torchscript")
    except Exception as e:  # the current exporter needs onnxscript
        print(f"dynamo export failed: {e}", file=sys.stderr)
        raise
    main_recurrent()


if __name__ == "__main__":
    main()
