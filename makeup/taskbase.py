"""The base class of tasks that work inside one company (the Celery app itself is project
wiring: ``config/celery.py``)."""

from celery import Task
from django_scopes import scope

from .models import Company


class CompanyTask(Task):
    """Base class for tasks that work inside one company.

    The first argument (or the ``company_id`` keyword) is the company's id; the task body
    runs inside ``scope(company=…)`` and receives the company instance instead of the id.
    A company deleted meanwhile makes the task a no-op.
    """

    abstract = True
    acks_late = True
    autoretry_for = (ConnectionError, TimeoutError)
    retry_backoff = True
    retry_kwargs = {"max_retries": 5}

    def __call__(self, *args, **kwargs):
        if "company_id" in kwargs:
            company_id = kwargs.pop("company_id")
        else:
            company_id, *args = args
        company = Company.objects.filter(pk=company_id).select_related("settings").first()
        if company is None:
            return None
        with scope(company=company):
            return super().__call__(company, *args, **kwargs)
