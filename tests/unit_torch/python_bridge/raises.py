def anvil_kernel(x, out):
    raise ValueError("block size 3 does not divide 8")
