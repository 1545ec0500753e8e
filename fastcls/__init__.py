__version__ = "0.1.0"

import warnings as _warnings
# fastai's own use of a deprecated torch API, printed on every import: noise for fastcls's users (issue 14); other warnings stay
_warnings.filterwarnings('ignore', message=r'`torch\.jit\.script` is deprecated', category=FutureWarning)
