"""Trains gatito's byte-level BPE text tokenizer and writes tokenizer.json.

Byte-level BPE can represent any input, so the model never meets an unknown character.
The special tokens <|eot|> (end of text) and <|sep|> (Gato's observation/action separator)
are part of the vocabulary; the Rust side reads T, the text vocabulary size, from the file.

Usage: python3 models/recipe/tokenizer.py CORPUS.txt [--vocab 1024] [--out models/gatito-s/tokenizer.json]
The corpus is plain text, one sentence a line: the captions, questions, answers and
missions the worlds produce (`gatito corpus` prints them once the worlds exist).
"""

import argparse
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

SPECIALS = ["<|eot|>", "<|sep|>"]


def train(lines, vocab_size):
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(lines, trainer=trainer)
    return tokenizer


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--vocab", type=int, default=1024)
    parser.add_argument("--out", type=Path, default=Path("models/gatito-s/tokenizer.json"))
    args = parser.parse_args()
    lines = args.corpus.read_text().splitlines()
    tokenizer = train(lines, args.vocab)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(args.out))
    print(f"{args.out}: {tokenizer.get_vocab_size()} text tokens from {len(lines)} lines")


if __name__ == "__main__":
    main()
