"""Pretrained models: fine-tuning from a trained model (``asr.pretrained.init``)."""
