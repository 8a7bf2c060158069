"""Install bleedorigin: ``pip install -e .`` (tools/setup.sh does the full stack)."""
import os.path as osp

from setuptools import find_packages, setup


def read_requirements(name):
    """Requirement lines of ``requirements/<name>.txt`` without comments."""
    path = osp.join(osp.dirname(__file__), 'requirements', f'{name}.txt')
    with open(path) as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [line for line in lines if line]


def read_version():
    namespace = {}
    with open(osp.join('bleedorigin', 'version.py')) as f:
        exec(f.read(), namespace)
    return namespace['__version__']


setup(
    name='bleedorigin',
    version=read_version(),
    description='Bleeding onset detection, source localisation and tracking '
    'in ESD video (BleedOrigin-Net), as an OpenMMLab plugin package',
    long_description=open('README.md').read() if osp.exists('README.md') else '',
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('configs', 'tools', 'tests', 'projects')),
    include_package_data=True,
    python_requires='>=3.10',
    install_requires=read_requirements('runtime'),
    extras_require={
        'tests': read_requirements('tests'),
        'optional': read_requirements('optional'),
        'build': read_requirements('build'),
    },
    license='Apache-2.0',
    zip_safe=False,
)
