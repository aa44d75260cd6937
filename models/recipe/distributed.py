"""Training on several processes with PyTorch's own engine. torchrun starts the processes and
sets RANK, WORLD_SIZE and LOCAL_RANK; DistributedDataParallel averages their gradients over
gloo on CPUs or NCCL on GPUs. Started alone, every helper here is a no-op, so the
single-process command runs exactly as it did.

    torchrun --nproc_per_node 8 models/recipe/train.py --out runs/s    # one machine, 8 GPUs
"""

import os

import torch
import torch.distributed as dist


def start(device):
    """Joins torchrun's group, if this process is in one; returns the device it trains on:
    on GPUs, each process its own."""
    if int(os.environ.get("WORLD_SIZE", "1")) == 1:
        return device
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return device


def stop():
    if dist.is_initialized():
        dist.destroy_process_group()


def rank():
    return dist.get_rank() if dist.is_initialized() else 0


def world():
    return dist.get_world_size() if dist.is_initialized() else 1


def is_main():
    """Whether this process is the one that writes: logs, checkpoints, exports."""
    return rank() == 0


def barrier():
    if dist.is_initialized():
        dist.barrier()


def total(tensor):
    """`tensor` summed over every process (a new tensor; `tensor` itself alone)."""
    if not dist.is_initialized():
        return tensor
    tensor = tensor.clone()
    dist.all_reduce(tensor)
    return tensor


def from_main(value):
    """The main process's `value`, in every process (any picklable value)."""
    if not dist.is_initialized():
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]
