"""Imports every feature's tables so ``Base.metadata`` is complete (migrations, tests)."""

from chengxin.accounts import models as accounts_models
from chengxin.attachments import models as attachments_models  # noqa: F401  (registers the tables)
from chengxin.checks import models as checks_models  # noqa: F401  (registers the tables)
from chengxin.commitments import models as commitments_models  # noqa: F401  (registers the tables)
from chengxin.consent import models as consent_models  # noqa: F401  (registers the tables)
from chengxin.core import audit, workflow  # noqa: F401  (workflow registers case_event)
from chengxin.core.db import Base
from chengxin.disclosure import expiry as disclosure_expiry  # noqa: F401  (registers record_display_end)
from chengxin.disclosure import models as disclosure_models  # noqa: F401  (registers the tables)
from chengxin.ecommerce.complaints import models as ecommerce_complaints_models  # noqa: F401  (registers the tables)
from chengxin.ecommerce.risk import models as ecommerce_risk_models  # noqa: F401  (registers the tables)
from chengxin.ecommerce.trade import models as ecommerce_trade_models  # noqa: F401  (registers the tables)
from chengxin.ledger import models as ledger_models
from chengxin.lists import models as lists_models  # noqa: F401  (registers the tables)
from chengxin.monitoring import models as monitoring_models  # noqa: F401  (registers the tables)
from chengxin.notices import models as notices_models  # noqa: F401  (registers the tables)
from chengxin.objections import models as objections_models  # noqa: F401  (registers the tables)
from chengxin.people import models as people_models  # noqa: F401  (registers the tables)
from chengxin.people import orgs as people_orgs  # noqa: F401  (registers the tables)
from chengxin.records import models as records_models
from chengxin.repair import models as repair_models  # noqa: F401  (registers the tables)
from chengxin.reports import models as reports_models
from chengxin.scores import models as scores_models  # noqa: F401  (registers the tables)
from chengxin.subjects import models as subjects_models
from chengxin.subscriptions import models as subscriptions_models  # noqa: F401  (registers the tables)
from chengxin.workdays import models as workdays_models  # noqa: F401  (registers the tables)

metadata = Base.metadata

__all__ = ["accounts_models", "audit", "ledger_models", "metadata", "records_models", "reports_models", "subjects_models"]
