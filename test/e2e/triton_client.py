"""Talks to the edgesplit router with the unmodified tritonclient[grpc] from PyPI and prints one JSON line.
The image shape comes from the model metadata: UINT8 [N,H,W] (one channel) or [N,H,W,C]; FP32 is [N,C,H,W]."""
import json
import sys

import numpy as np
import tritonclient.grpc as grpcclient

url, images_path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
client = grpcclient.InferenceServerClient(url=url)
meta = client.get_model_metadata("edgesplit", as_json=True)
shape = [int(d) for d in meta["inputs"][0]["shape"]][1:]  # [H,W] or [H,W,C]
H, W = shape[0], shape[1]
C = shape[2] if len(shape) == 3 else 1
images = np.fromfile(images_path, dtype=np.uint8, count=n * H * W * C).reshape(n, *shape)  # [n,H,W(,C)]

inp = grpcclient.InferInput("image", [n, *shape], "UINT8")
inp.set_data_from_numpy(images)
outs = [grpcclient.InferRequestedOutput("probabilities"), grpcclient.InferRequestedOutput("label")]
res = client.infer("edgesplit", [inp], outputs=outs)
probs = res.as_numpy("probabilities")
labels = [l.decode() if isinstance(l, bytes) else str(l) for l in res.as_numpy("label")]
params = res.get_response(as_json=True).get("parameters", {})

# FP32 as torchvision's ToTensor() gives it ([N,C,H,W], 0..1).
f = grpcclient.InferInput("image", [n, C, H, W], "FP32")
f.set_data_from_numpy(np.ascontiguousarray((images.astype(np.float32) / 255.0).reshape(n, H, W, C).transpose(0, 3, 1, 2)))
probs_f32 = client.infer("edgesplit", [f], outputs=[grpcclient.InferRequestedOutput("probabilities")]).as_numpy("probabilities")

bad_code = None
try:
    client.infer("edgesplit", [grpcclient.InferInput("pixels", [1, *shape], "UINT8")])
except Exception as e:  # InferenceServerException
    bad_code = getattr(e, "status", lambda: None)()

# A wrong image size: the error names the shape this model takes.
bad_shape_status, bad_shape_message = None, None
wrong = grpcclient.InferInput("image", [1, H + 1, W, *shape[2:]], "UINT8")
wrong.set_data_from_numpy(np.zeros([1, H + 1, W, *shape[2:]], dtype=np.uint8))
try:
    client.infer("edgesplit", [wrong])
except Exception as e:  # InferenceServerException
    bad_shape_status, bad_shape_message = getattr(e, "status", lambda: None)(), getattr(e, "message", lambda: str(e))()

# Triton's streaming API (ModelStreamInfer): one image per request, answers matched by request id, then one bad
# request, whose error arrives through the callback while the stream stays usable.
import queue

answers = queue.Queue()
client.start_stream(callback=lambda result, error: answers.put((result, error)))
for i in range(n):
    one = grpcclient.InferInput("image", [1, *shape], "UINT8")
    one.set_data_from_numpy(images[i:i + 1])
    client.async_stream_infer("edgesplit", [one], request_id=f"r{i}", outputs=[grpcclient.InferRequestedOutput("probabilities")])
client.async_stream_infer("edgesplit", [grpcclient.InferInput("pixels", [1, *shape], "UINT8")], request_id="bad")
stream_argmax, stream_error = {}, None
for _ in range(n + 1):
    result, error = answers.get(timeout=60)
    if error is not None:
        stream_error = str(error)
    else:
        stream_argmax[result.get_response().id] = int(result.as_numpy("probabilities").argmax())
client.stop_stream()

print(json.dumps({
    "streamArgmax": [stream_argmax.get(f"r{i}") for i in range(n)], "streamError": stream_error,
    "live": client.is_server_live(), "ready": client.is_server_ready(), "modelReady": client.is_model_ready("edgesplit"),
    "metadata": meta, "shape": list(probs.shape), "argmax": probs.argmax(axis=1).tolist(), "labels": labels,
    "sumsToOne": bool(np.allclose(probs.sum(axis=1), 1, atol=1e-4)),
    "fp32MaxDiff": float(np.abs(probs_f32 - probs).max()), "parameters": params, "badInputStatus": bad_code,
    "badShapeStatus": bad_shape_status, "badShapeMessage": bad_shape_message,
}))
