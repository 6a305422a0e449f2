def anvil_kernel(x, out:
    pass
