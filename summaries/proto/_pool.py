"""The private descriptor pool all of our protos live in (see generate.py for why)."""
from google.protobuf import descriptor_pool

POOL = descriptor_pool.DescriptorPool()
