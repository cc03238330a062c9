"""Features: the functional numpy API (``spectral``) and its batched torch twins (``dl4mir.features.torch``)."""
from dl4mir.features.spectral import *  # noqa: F401,F403
from dl4mir.features.spectral import __all__  # noqa: F401
