"""Pods that a Kubernetes controller builds from a template merged with a custom resource (KServe
InferenceService / LLMInferenceService, Kubeflow TrainJob): how each controller documents the merge."""
