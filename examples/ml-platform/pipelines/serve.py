"""Online inference for the churn classifier (FastAPI), packaged by docker/serve/Dockerfile."""

from __future__ import annotations

import os

import joblib
import uvicorn
from fastapi import FastAPI

MODEL_PATH = os.environ.get("MODEL_PATH", "/models/model.joblib")

app = FastAPI()
# joblib files are pickles: only load models this platform built and signed.
model = joblib.load(MODEL_PATH)


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/predict")
def predict(features: dict[str, float]) -> dict[str, float]:
    score = float(model.predict_proba([list(features.values())])[0][1])
    return {"churn_score": score}


if __name__ == "__main__":
    uvicorn.run(app, host="0.0.0.0", port=8080)
