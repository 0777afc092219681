"""The Docker-free local stack (``python -m local``) and the Walmart sandbox emulator (``local.emulator``)."""
