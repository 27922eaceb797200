"""edgesplit training: SepResNeXt, supernet NAS, fine-tuning and export of model packages."""
