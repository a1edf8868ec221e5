"""Development tools, not part of the product (not in the wheel): a Twilio-compatible fake, the
simulated SMS network, the stack launcher and the `make run` demo. Tests and benchmarks import them
from a checkout of the repository."""
