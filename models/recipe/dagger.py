"""The training data's schedule: restarts at the checkpoints, and DAgger's rounds.

The data restarts at every checkpoint from a seed of the step, so a run resumed from any
checkpoint, in a later session or on another machine, trains on exactly the batches an
unbroken run did.

DAgger in rounds (Ross et al. 2011): every `every` steps the model so far is exported to
`out/students/STEP` and the data restarts with a share of the worlds' episodes driven by
students, the expert labelling every step (`gatito data --student`). On Pong this is what
made the model play (models/recipe/RUNS.md).
"""

from pathlib import Path

import distributed
from export import export


class Dagger:
    """The batches, in the schedule above. With `aggregate`, each driven episode draws one of
    all the rounds' students so far, as DAgger trains on the union of every round's data;
    without, the latest round's student drives alone. `student` drives from the start (a round
    before this run), otherwise the experts alone until the first round. `open_stream(step,
    students)` opens the batches; iterating a Dagger gives them. Under torchrun the main process
    exports each round and the others wait for it."""

    def __init__(self, open_stream, out, tokenizer, every, student=None, start=0, aggregate=True, model=None,
                 restart_every=0):
        self.open_stream, self.tokenizer, self.every, self.aggregate = open_stream, tokenizer, every, aggregate
        self.restart_every = restart_every
        self.folder = out / "students"
        self.students = [Path(student)] if student else []
        if every:  # a resumed run goes on with the rounds it has made
            rounds = sorted(d for d in self.folder.glob("*") if d.name.isdigit() and int(d.name) <= start
                            and (d / "model.safetensors").is_file())
            self.students += rounds
            # A run that stopped on a round's step (its last) holds that round in `model`, not yet
            # exported; one resumed where its rounds are missing (a checkpoint carried to another
            # machine without them) lets the model it resumes drive in their place.
            if model is not None and start >= every and (start % every == 0 or not rounds) \
                    and self._round(start) not in self.students:
                self.students.append(self._export(start, model))
        self._open(start)
        self.task_names, self.header = self.stream.task_names, self.stream.header

    def _open(self, step):
        students = self.students if self.aggregate else self.students[-1:]
        self.stream = self.open_stream(step, students)
        self._batches = iter(self.stream)

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._batches)

    def _round(self, step):
        return self.folder / f"{step:07d}"

    def _export(self, step, model):
        if distributed.is_main():
            export(getattr(model, "module", model), self.tokenizer, self._round(step))
        distributed.barrier()
        return self._round(step)

    def after_step(self, step, model):
        """Called once `step` steps are done (and checkpointed, where it is a checkpoint's)."""
        new_round = self.every and step % self.every == 0
        if new_round:
            self.students.append(self._export(step, model))
        if new_round or (self.restart_every and step % self.restart_every == 0):
            self.stream.close()
            self._open(step)

    def close(self):
        self.stream.close()
