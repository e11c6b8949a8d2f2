#!/usr/bin/env python3
"""Builds the TensorFlow Lite import fixtures under tests/fixtures/tflite/.

For each case: a small Keras model with seeded random weights, converted by
TensorFlow's converter to a fully int8 `.tflite` (post-training quantization
with a representative data set whose ranges vary per case), a few random
int8 inputs, and the outputs of both integer references on those inputs:

- TensorFlow Lite Micro (`tflite-micro`, its Python interpreter), the
  reference edgegrad matches byte for byte;
- LiteRT (`ai-edge-litert`) with the reference op resolver (BUILTIN_REF).

Files per case NAME: NAME.tflite, NAME.in.bin (every sample's inputs, in
input order, concatenated), NAME.tflm.bin and NAME.litert.bin (outputs,
likewise); manifest.json lists the cases with their input/output shapes and
how many output bytes differ between the two references.

Run (TensorFlow 2.21, Keras 2 via tf-keras, CPU only):

    python3 -m venv /work/venv-tflite
    /work/venv-tflite/bin/pip install tensorflow-cpu tf-keras ai-edge-litert tflite-micro
    /work/venv-tflite/bin/python scripts/tflite_fixtures.py

`TF_USE_LEGACY_KERAS=1` is set below before TensorFlow is imported: the
Keras 2 LSTM of tf-keras converts to UNIDIRECTIONAL_SEQUENCE_LSTM (TF 2.21's
converter crashes quantizing a Keras 3 LSTM).

The digits example model (`--digits`) is trained on data/digits8x8_*.csv
and written to examples/tflite/digits_keras.tflite, with its int8 test
accuracy under both interpreters in examples/tflite/digits_keras.json.
`--only a,b` rebuilds just the named cases and keeps the others' files.
"""

import json
import os
import sys

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from ai_edge_litert import interpreter as litert  # noqa: E402
from tflite_micro.python.tflite_micro import runtime as tflm  # noqa: E402

keras = tf.keras
L = keras.layers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "tflite")
SAMPLES = 4
# More samples where the two references may differ (per-channel rounding).
SAMPLES_FOR = {"fc_big": 64, "small_cnn": 16}


def convert(model, rep_fn, float_io=False):
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = rep_fn
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if not float_io:
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
    return conv.convert()


def rep_dataset(shapes, lo, hi, seed, n=64):
    rng = np.random.default_rng(seed)

    def gen():
        for _ in range(n):
            yield [rng.uniform(lo, hi, size=(1,) + tuple(s)).astype(np.float32) for s in shapes]

    return gen


def run_tflm(tfl, inputs):
    it = tflm.Interpreter.from_bytes(tfl)
    outs = []
    for sample in inputs:
        it.reset()
        for i, x in enumerate(sample):
            it.set_input(x, i)
        it.invoke()
        n = len(litert.Interpreter(model_content=tfl).get_output_details())
        outs.append([np.array(it.get_output(j)) for j in range(n)])
    return outs


def run_litert(tfl, inputs):
    it = litert.Interpreter(
        model_content=tfl,
        experimental_op_resolver_type=litert.OpResolverType.BUILTIN_REF,
    )
    it.allocate_tensors()
    outs = []
    for sample in inputs:
        it.reset_all_variables()
        for d, x in zip(it.get_input_details(), sample):
            it.set_tensor(d["index"], x)
        it.invoke()
        outs.append([it.get_tensor(d["index"]).copy() for d in it.get_output_details()])
    return outs


def random_inputs(tfl, seed, n_samples):
    it = litert.Interpreter(model_content=tfl)
    rng = np.random.default_rng(seed + 1000)
    samples = []
    for _ in range(n_samples):
        sample = []
        for d in it.get_input_details():
            if d["dtype"] == np.int8:
                sample.append(rng.integers(-128, 128, size=d["shape"], dtype=np.int8))
            else:
                sample.append(rng.uniform(-3, 3, size=d["shape"]).astype(d["dtype"]))
        samples.append(sample)
    return samples


def save(name, tfl, inputs, tflm_out, lite_out, manifest):
    with open(os.path.join(OUT, name + ".tflite"), "wb") as f:
        f.write(tfl)

    def cat(samples):
        return b"".join(np.ascontiguousarray(a).tobytes() for s in samples for a in s)

    with open(os.path.join(OUT, name + ".in.bin"), "wb") as f:
        f.write(cat(inputs))
    with open(os.path.join(OUT, name + ".tflm.bin"), "wb") as f:
        f.write(cat(tflm_out))
    with open(os.path.join(OUT, name + ".litert.bin"), "wb") as f:
        f.write(cat(lite_out))
    a = np.frombuffer(cat(tflm_out), np.int8).astype(np.int32)
    b = np.frombuffer(cat(lite_out), np.int8).astype(np.int32)
    manifest.append(
        {
            "name": name,
            "samples": len(inputs),
            "inputs": [list(map(int, x.shape)) for x in inputs[0]],
            "input_dtypes": [str(x.dtype) for x in inputs[0]],
            "outputs": [list(map(int, x.shape)) for x in tflm_out[0]],
            "output_dtypes": [str(x.dtype) for x in tflm_out[0]],
            "tflm_vs_litert_bytes_differing": int((a != b).sum()) if a.size == b.size else -1,
            "tflm_vs_litert_max_diff": int(np.abs(a - b).max()) if a.size == b.size and a.size else 0,
        }
    )
    print(f"{name}: {len(tfl)} bytes, tflm vs litert differ in {manifest[-1]['tflm_vs_litert_bytes_differing']} bytes")


def inp(shape):
    return keras.Input(shape=shape, batch_size=1)


def cases():
    """(name, build_fn, input shapes, representative range lo, hi, float_io)."""
    c = []

    def conv_same_relu():
        x = inp((8, 8, 3))
        y = L.Conv2D(6, 3, padding="same", activation="relu")(x)
        return keras.Model(x, y)

    c.append(("conv_same_relu", conv_same_relu, [(8, 8, 3)], -1.0, 1.0))

    def conv_valid_stride2():
        x = inp((9, 9, 4))
        y = L.Conv2D(5, (3, 2), strides=(2, 2), padding="valid")(x)
        return keras.Model(x, y)

    c.append(("conv_valid_stride2", conv_valid_stride2, [(9, 9, 4)], -3.0, 5.0))

    def conv_same_stride2_relu6():
        x = inp((7, 7, 2))
        y = L.Conv2D(4, 3, strides=2, padding="same", activation="relu6")(x)
        return keras.Model(x, y)

    c.append(("conv_same_stride2_relu6", conv_same_stride2_relu6, [(7, 7, 2)], 0.0, 10.0))

    def conv_dilated():
        x = inp((10, 10, 3))
        y = L.Conv2D(4, 3, dilation_rate=2, padding="same")(x)
        return keras.Model(x, y)

    c.append(("conv_dilated", conv_dilated, [(10, 10, 3)], -0.5, 0.25))

    def depthwise_mult2():
        x = inp((8, 8, 3))
        y = L.DepthwiseConv2D(3, depth_multiplier=2, padding="same", activation="relu6")(x)
        return keras.Model(x, y)

    c.append(("depthwise_mult2", depthwise_mult2, [(8, 8, 3)], -2.0, 2.0))

    def depthwise_stride2_valid():
        x = inp((9, 9, 4))
        y = L.DepthwiseConv2D(3, strides=2, padding="valid")(x)
        return keras.Model(x, y)

    c.append(("depthwise_stride2_valid", depthwise_stride2_valid, [(9, 9, 4)], -1.0, 3.0))

    def fc_relu():
        x = inp((32,))
        y = L.Dense(16, activation="relu")(x)
        return keras.Model(x, y)

    c.append(("fc_relu", fc_relu, [(32,)], -4.0, 4.0))

    def fc_big():
        x = inp((96,))
        y = L.Dense(64)(x)
        return keras.Model(x, y)

    c.append(("fc_big", fc_big, [(96,)], -1.0, 1.0))

    def max_pool():
        x = inp((8, 8, 3))
        y = L.MaxPooling2D(2)(x)
        y = L.MaxPooling2D(3, strides=2, padding="same")(y)
        return keras.Model(x, y)

    c.append(("max_pool", max_pool, [(8, 8, 3)], -1.0, 2.0))

    def avg_pool():
        x = inp((9, 9, 3))
        y = L.AveragePooling2D(3, strides=2, padding="same")(x)
        return keras.Model(x, y)

    c.append(("avg_pool_same", avg_pool, [(9, 9, 3)], -1.0, 2.0))

    def avg_pool_valid():
        x = inp((8, 8, 2))
        y = L.AveragePooling2D(2)(x)
        return keras.Model(x, y)

    c.append(("avg_pool_valid", avg_pool_valid, [(8, 8, 2)], -3.0, 1.0))

    def mean():
        x = inp((6, 6, 5))
        y = L.Conv2D(8, 1)(x)
        y = L.GlobalAveragePooling2D()(y)
        return keras.Model(x, y)

    c.append(("mean", mean, [(6, 6, 5)], -1.0, 1.0))

    def mean_keepdims():
        x = inp((5, 7, 4))
        y = L.GlobalAveragePooling2D(keepdims=True)(x)
        y = L.Conv2D(3, 1)(y)
        return keras.Model(x, y)

    c.append(("mean_keepdims", mean_keepdims, [(5, 7, 4)], -2.0, 3.0))

    def add_two_inputs():
        a = inp((4, 4, 3))
        b = inp((4, 4, 3))
        y = L.Add()([L.Conv2D(3, 1)(a), b])
        return keras.Model([a, b], y)

    c.append(("add_two_inputs", add_two_inputs, [(4, 4, 3), (4, 4, 3)], -2.0, 2.0))

    def add_relu():
        x = inp((6, 6, 4))
        a = L.Conv2D(4, 3, padding="same")(x)
        y = L.ReLU()(L.Add()([a, x]))
        return keras.Model(x, y)

    c.append(("add_relu", add_relu, [(6, 6, 4)], -1.0, 1.0))

    def mul():
        x = inp((5, 5, 4))
        a = L.Conv2D(4, 1)(x)
        y = L.Multiply()([a, x])
        return keras.Model(x, y)

    c.append(("mul", mul, [(5, 5, 4)], -2.0, 2.0))

    def softmax():
        x = inp((20,))
        y = L.Dense(10)(x)
        y = L.Softmax()(y)
        return keras.Model(x, y)

    c.append(("softmax", softmax, [(20,)], -3.0, 3.0))

    def logistic():
        x = inp((24,))
        y = L.Dense(24)(x)
        y = L.Activation("sigmoid")(y)
        return keras.Model(x, y)

    c.append(("logistic", logistic, [(24,)], -4.0, 4.0))

    def tanh():
        x = inp((24,))
        y = L.Dense(24)(x)
        y = L.Activation("tanh")(y)
        return keras.Model(x, y)

    c.append(("tanh", tanh, [(24,)], -2.0, 2.0))

    def relus():
        # Activations straight on the model input cannot be fused into a
        # preceding op, so they stay RELU / RELU6 / LEAKY_RELU ops.
        x = inp((64,))
        r = L.ReLU()(x)
        r6 = L.ReLU(6.0)(x)
        lk = L.LeakyReLU(0.2)(x)
        y = L.Concatenate()([r, r6, lk])
        return keras.Model(x, [r, r6, lk, y])

    c.append(("relus", relus, [(64,)], -8.0, 8.0))

    def reshape_squeeze_concat():
        x = inp((4, 4, 2))
        a = L.Conv2D(3, 4, padding="valid")(x)  # [1, 1, 1, 3]
        s = tf.squeeze(a, axis=[1, 2])
        b = L.Reshape((8, 4))(x)
        b = L.Flatten()(b)
        y = L.Concatenate()([s, b, s])
        return keras.Model(x, y)

    c.append(("reshape_squeeze_concat", reshape_squeeze_concat, [(4, 4, 2)], -1.0, 1.0))

    def pad():
        x = inp((5, 5, 3))
        y = L.ZeroPadding2D(((1, 2), (0, 1)))(x)
        y = L.Conv2D(4, 3)(y)
        return keras.Model(x, y)

    c.append(("pad", pad, [(5, 5, 3)], 0.5, 3.0))

    def float_io():
        x = inp((16,))
        y = L.Dense(8, activation="relu")(x)
        return keras.Model(x, y)

    c.append(("float_io", float_io, [(16,)], -1.0, 1.0, True))

    def small_cnn():
        x = inp((12, 12, 1))
        y = L.Conv2D(8, 3, padding="same", activation="relu")(x)
        y = L.DepthwiseConv2D(3, strides=2, padding="same", activation="relu6")(y)
        y = L.Conv2D(12, 1, activation="relu")(y)
        y = L.MaxPooling2D(2)(y)
        z = L.AveragePooling2D(3, strides=1, padding="same")(y)
        y = L.Add()([y, z])
        y = L.GlobalAveragePooling2D()(y)
        y = L.Dense(10)(y)
        y = L.Softmax()(y)
        return keras.Model(x, y)

    c.append(("small_cnn", small_cnn, [(12, 12, 1)], 0.0, 1.0))

    def lstm():
        x = inp((6, 5))
        y = L.LSTM(8, return_sequences=True)(x)
        return keras.Model(x, y)

    c.append(("lstm", lstm, [(6, 5)], -1.0, 1.0))

    def lstm_dense():
        x = inp((5, 3))
        y = L.LSTM(6, return_sequences=True)(x)
        y = L.Dense(4)(y)
        return keras.Model(x, y)

    c.append(("lstm_dense", lstm_dense, [(5, 3)], -2.0, 2.0))

    def strided_slice():
        x = inp((6, 8, 4))
        y = L.Lambda(lambda t: t[:, 1:6:2, ::-1, 1:])(x)  # steps, reversal
        y = L.Lambda(lambda t: t[:, -1])(y)  # shrink axis
        return keras.Model(x, y)

    c.append(("strided_slice", strided_slice, [(6, 8, 4)], -1.0, 1.0))

    def lstm_last():
        # Without return_sequences the converter takes the last step with a
        # STRIDED_SLICE.
        x = inp((7, 4))
        y = L.LSTM(8)(x)
        y = L.Dense(3)(y)
        return keras.Model(x, y)

    c.append(("lstm_last", lstm_last, [(7, 4)], -1.0, 1.0))
    return c


def fixtures(only=None):
    """Builds every case, or with `only` (names) just those, keeping the
    other cases' files and manifest entries as they are."""
    os.makedirs(OUT, exist_ok=True)
    manifest = []
    old = {}
    if only:
        with open(os.path.join(OUT, "manifest.json")) as f:
            old = {m["name"]: m for m in json.load(f)}
    for i, case in enumerate(cases()):
        name, build, shapes, lo, hi = case[:5]
        if only and name not in only:
            if name in old:
                manifest.append(old[name])
            continue
        float_io = len(case) > 5 and case[5]
        seed = 1234 + i
        keras.utils.set_random_seed(seed)
        model = build()
        # Bias-free layers start at zero: give every weight a random value.
        rng = np.random.default_rng(seed)
        model.set_weights([rng.normal(0, 0.5, size=w.shape).astype(np.float32) for w in model.get_weights()])
        tfl = convert(model, rep_dataset(shapes, lo, hi, seed), float_io)
        inputs = random_inputs(tfl, seed, SAMPLES_FOR.get(name, SAMPLES))
        save(name, tfl, inputs, run_tflm(tfl, inputs), run_litert(tfl, inputs), manifest)
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


def read_csv(path):
    rows = [l for l in open(path) if l.strip() and not l.startswith("#")]
    head = rows[0].strip().split(",")
    data = np.array([[float(v) for v in r.strip().split(",")] for r in rows[1:]], np.float32)
    li = head.index("label")
    y = data[:, li].astype(np.int64)
    x = np.delete(data, li, axis=1) / 16.0
    return x.reshape(-1, 8, 8, 1), y


def digits():
    """Trains the digits CNN in Keras, converts it to int8 and measures it."""
    xtr, ytr = read_csv(os.path.join(ROOT, "data", "digits8x8_train.csv"))
    xte, yte = read_csv(os.path.join(ROOT, "data", "digits8x8_test.csv"))
    keras.utils.set_random_seed(7)
    x = inp((8, 8, 1))
    y = L.Conv2D(16, 3, padding="same", activation="relu")(x)
    y = L.MaxPooling2D(2)(y)
    y = L.DepthwiseConv2D(3, padding="same", activation="relu6")(y)
    y = L.Conv2D(32, 1, activation="relu")(y)
    y = L.GlobalAveragePooling2D()(y)
    y = L.Dense(10)(y)
    y = L.Softmax()(y)
    model = keras.Model(x, y)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(xtr, ytr, epochs=40, batch_size=32, verbose=0)
    f32_acc = float(model.evaluate(xte, yte, verbose=0)[1])

    def rep():
        for i in range(0, len(xtr), 4):
            yield [xtr[i : i + 1]]

    tfl = convert(model, rep)
    it = litert.Interpreter(model_content=tfl, experimental_op_resolver_type=litert.OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    d_in, d_out = it.get_input_details()[0], it.get_output_details()[0]
    s, zp = d_in["quantization"]
    q = np.clip(np.round(xte / s) + zp, -128, 127).astype(np.int8)
    lite_pred, tflm_pred = [], []
    m = tflm.Interpreter.from_bytes(tfl)
    for i in range(len(q)):
        it.set_tensor(d_in["index"], q[i : i + 1])
        it.invoke()
        lite_pred.append(int(np.argmax(it.get_tensor(d_out["index"]))))
        m.set_input(q[i : i + 1], 0)
        m.invoke()
        tflm_pred.append(int(np.argmax(m.get_output(0))))
    out_dir = os.path.join(ROOT, "examples", "tflite")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "digits_keras.tflite"), "wb") as f:
        f.write(tfl)
    report = {
        "test_samples": len(q),
        "input_scale": float(s),
        "input_zero_point": int(zp),
        "keras_f32_accuracy": f32_acc,
        "litert_int8_accuracy": float(np.mean(np.array(lite_pred) == yte)),
        "tflm_int8_accuracy": float(np.mean(np.array(tflm_pred) == yte)),
    }
    with open(os.path.join(out_dir, "digits_keras.json"), "w") as f:
        json.dump(report, f, indent=1)
        f.write("\n")
    print(report)


if __name__ == "__main__":
    if "--digits" in sys.argv:
        digits()
    elif "--only" in sys.argv:
        fixtures(sys.argv[sys.argv.index("--only") + 1].split(","))
    else:
        fixtures()
