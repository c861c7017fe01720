"""Greedy continuations of the quality prompts from a training checkpoint (fake-quant forward).
Cheap progress check while a run trains: python3 probe_greedy.py work/run2/ckpt.pt"""
import sys
import torch
from bpe import Tokenizer
from corpus import prompts
from model import BitNet, Config

torch.set_num_threads(1)
ck = torch.load(sys.argv[1])
m = BitNet(Config(**ck["config"]))
m.load_state_dict(ck["model"])
m.eval()
tok = Tokenizer.load("work/tokenizer.json")
print("step", ck["step"])
with torch.no_grad():
    for pr in (sys.argv[2:] or prompts()):
        ids = [tok.bos_id] + tok.encode(pr)
        n0 = len(ids)
        for _ in range(16):
            nxt = int(m(torch.tensor([ids]), quant=True)[0, -1].argmax())
            ids.append(nxt)
            if "\n" in tok.decode([nxt]):
                break
        print(repr(pr), "->", repr(tok.decode(ids[n0:])))
