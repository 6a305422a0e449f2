import torch


def helper(x):
    return x
