"""The four-part MLLM prompt for initial bleeding source localisation (paper Fig. 8).

Parts, in order: (1) task instruction, (2) visual guidance, (3) output
requirements, (4) output format and restrictions. The model must report the
image size it actually saw (MLLMs resize images internally) and the source as
coordinates normalised by that size; absolute coordinates are then computed
from the original frame size, as the paper does.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class PromptTemplate:
    """A four-part prompt; ``{width}``/``{height}`` are the original frame size."""
    task_instruction: str
    visual_guidance: str
    output_requirements: str
    output_format: str

    def render(self, width: int, height: int) -> str:
        """The prompt text for one frame of ``width`` x ``height`` pixels."""
        if int(width) <= 0 or int(height) <= 0:
            raise ValueError(f'frame size must be positive, got {width}x{height}')
        parts = [('Task instruction', self.task_instruction),
                 ('Visual guidance', self.visual_guidance),
                 ('Output requirements', self.output_requirements),
                 ('Output format and restrictions', self.output_format)]
        text = '\n\n'.join(f'[{title}]\n{body}' for title, body in parts)
        return text.format(width=int(width), height=int(height))


BLEEDING_SOURCE_PROMPT = PromptTemplate(
    task_instruction=(
        'You are assisting an endoscopist during endoscopic submucosal dissection (ESD). The '
        'attached endoscopic image ({width}x{height} pixels) is the frame in which bleeding '
        'starts. Locate the bleeding source: the single point where blood first emerges from '
        'the tissue.'),
    visual_guidance=(
        'The bleeding source is where a fresh, bright red stream of blood originates, usually '
        'a small spot at the upstream end of the blood spreading over the exposed submucosa or '
        'the resection margin. Ignore blood that has already pooled away from its origin, '
        'specular reflections of the light, injected dye, and the surgical instrument.'),
    output_requirements=(
        'Images are often resized before you see them. Report (a) the width and height in '
        'pixels of the image as you received it and (b) the position of the bleeding source as '
        'coordinates normalised by that width and height: x_norm = x / width and '
        'y_norm = y / height, both between 0 and 1, origin at the top-left corner, x to the '
        'right, y downwards.'),
    output_format=(
        'Answer with exactly these two lines and nothing else:\n'
        'IMAGE_SIZE: <width>x<height>\n'
        'SOURCE: (<x_norm>, <y_norm>)\n'
        'Use four decimals for x_norm and y_norm. If you cannot see a bleeding source, answer '
        '"SOURCE: NONE" on the second line. Give a single point, no ranges or lists.'),
)
