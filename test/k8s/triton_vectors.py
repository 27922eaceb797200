"""Sends a package's test vectors (testvectors.json: images and the PyTorch reference logits) to an edgesplit router
with the unmodified tritonclient[grpc] from PyPI and prints one JSON line: the largest |logits - reference|, whether
the answer was degraded, the package that answered and the argmax per image."""
import base64
import json
import sys

import numpy as np
import tritonclient.grpc as grpcclient

url, vectors_path = sys.argv[1], sys.argv[2]
tv = json.load(open(vectors_path))
n, shape = tv["count"], tv["imageShape"]
images = np.frombuffer(base64.b64decode(tv["imagesBase64"]), dtype=np.uint8).reshape(n, *shape)
client = grpcclient.InferenceServerClient(url=url)
inp = grpcclient.InferInput("image", [n, *shape], "UINT8")
inp.set_data_from_numpy(images)
res = client.infer("edgesplit", [inp], outputs=[grpcclient.InferRequestedOutput("logits")], client_timeout=30)
logits = res.as_numpy("logits")
params = res.get_response(as_json=True).get("parameters", {})
print(json.dumps({
    "maxAbsDiff": float(np.max(np.abs(logits - np.array(tv["logits"], dtype=np.float32)))),
    "degraded": params.get("edgesplit_degraded", {}).get("bool_param", False),
    "package": params.get("edgesplit_package", {}).get("string_param"),
    "live": client.is_server_live(),
}))
