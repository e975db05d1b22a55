"""The public surface is stated, pinned and importable; `import logitlab` stays light."""

import subprocess
import sys

import logitlab

PUBLIC = {
    "__version__",
    # errors
    "LogitlabError", "TargetError", "ConfigError", "DataError", "DataTypeError", "ModelFileError", "CheckpointError",
    "TrainingError", "DistributedError", "LogitlabWarning", "MissingExtraError", "OutputError",
    # tasks, targets, weights
    "Task", "infer_task", "probabilities", "prepare_targets", "pos_weight", "class_weight", "WEIGHT_STRATEGIES",
    # losses
    "make_loss", "LOSS_NAMES", "BCEWithLogitsLoss", "SigmoidFocalLoss", "SoftmaxFocalLoss", "DiceLoss",
    "BCEDiceLoss", "AsymmetricLoss", "CrossEntropyLoss", "LogitAdjustedCrossEntropyLoss", "Poly1CrossEntropyLoss",
    # doctor
    "diagnose", "diagnose_dataset", "Report", "Finding", "HealthMonitor",
    # training
    "TrainConfig", "Trainer", "Callback", "EarlyStopping",
    # data, models, evaluation, estimator
    "load_dataset", "DatasetBundle", "StreamingTable", "build_model", "compute_metrics", "tune_thresholds",
    "Thresholds", "predict_labels", "calibrate", "Calibration", "Classifier",
}  # fmt: skip


def test_all_is_pinned():
    assert set(logitlab.__all__) == PUBLIC


def test_every_public_name_resolves_to_an_object_of_its_module():
    for name in sorted(PUBLIC - {"__version__"}):
        obj = getattr(logitlab, name)
        assert obj is not None, name
        if hasattr(obj, "__module__") and callable(obj):
            assert obj.__module__.startswith("logitlab."), (name, obj.__module__)


def test_unknown_name_is_an_attribute_error():
    try:
        logitlab.not_a_name  # noqa: B018
    except AttributeError as exc:
        assert "not_a_name" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_import_is_light():
    code = "import sys, logitlab; print(int('torch' in sys.modules), int('matplotlib' in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["0", "0"]


def test_import_and_help_do_not_import_the_optional_frameworks():
    code = (
        "import runpy, sys\n"
        "import logitlab, logitlab.integrations\n"
        "sys.argv = ['logitlab', '--help']\n"
        "try:\n"
        "    runpy.run_module('logitlab', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('lightning', 'pytorch_lightning', 'transformers', 'accelerate', 'onnx', 'onnxruntime', 'onnxscript')\n"
        "print('loaded:', *[m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[-1] == "loaded:"


def test_submodules_declare_all():
    import importlib
    import pkgutil

    for info in pkgutil.walk_packages(logitlab.__path__, "logitlab."):
        if info.name.rsplit(".", 1)[-1].startswith("_") or info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        assert hasattr(module, "__all__"), f"{info.name} has no __all__"
