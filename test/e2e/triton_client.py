"""Talks to the edgesplit router with the unmodified tritonclient[grpc] from PyPI and prints one JSON line."""
import json
import sys

import numpy as np
import tritonclient.grpc as grpcclient

url, images_path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
client = grpcclient.InferenceServerClient(url=url)
meta = client.get_model_metadata("edgesplit", as_json=True)
images = np.fromfile(images_path, dtype=np.uint8, count=n * 784).reshape(n, 28, 28)

inp = grpcclient.InferInput("image", [n, 28, 28], "UINT8")
inp.set_data_from_numpy(images)
outs = [grpcclient.InferRequestedOutput("probabilities"), grpcclient.InferRequestedOutput("label")]
res = client.infer("edgesplit", [inp], outputs=outs)
probs = res.as_numpy("probabilities")
labels = [l.decode() if isinstance(l, bytes) else str(l) for l in res.as_numpy("label")]
params = res.get_response(as_json=True).get("parameters", {})

# FP32 as torchvision's ToTensor() gives it ([N,1,28,28], 0..1).
f = grpcclient.InferInput("image", [n, 1, 28, 28], "FP32")
f.set_data_from_numpy((images.astype(np.float32) / 255.0).reshape(n, 1, 28, 28))
probs_f32 = client.infer("edgesplit", [f], outputs=[grpcclient.InferRequestedOutput("probabilities")]).as_numpy("probabilities")

bad_code = None
try:
    client.infer("edgesplit", [grpcclient.InferInput("pixels", [1, 28, 28], "UINT8")])
except Exception as e:  # InferenceServerException
    bad_code = getattr(e, "status", lambda: None)()

print(json.dumps({
    "live": client.is_server_live(), "ready": client.is_server_ready(), "modelReady": client.is_model_ready("edgesplit"),
    "metadata": meta, "shape": list(probs.shape), "argmax": probs.argmax(axis=1).tolist(), "labels": labels,
    "sumsToOne": bool(np.allclose(probs.sum(axis=1), 1, atol=1e-4)),
    "fp32MaxDiff": float(np.abs(probs_f32 - probs).max()), "parameters": params, "badInputStatus": bad_code,
}))
