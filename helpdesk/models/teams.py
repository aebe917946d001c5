"""Who works the queue: teams, agent skills and availability, and the business-hours calendars SLAs count in."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class BusinessCalendar(models.Model):
    """Working hours in one time zone, with holidays. SLA targets are counted in these hours."""

    name = models.CharField(max_length=100, unique=True)
    timezone = models.CharField(max_length=64, default="UTC", help_text='IANA name, e.g. "Europe/Berlin".')
    is_default = models.BooleanField(default=False, help_text="Used by SLA policies that name no calendar.")
    # True: every hour of every day counts (24/7 support); `hours` and holidays are then ignored.
    always_open = models.BooleanField(default=False)
    # Part of the key under which helpdesk.business_hours caches the compiled calendar: every edit of the
    # calendar, its hours or its holidays saves the calendar row (helpdesk.services.helpdesk_settings).
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="helpdesk_one_default_calendar"
            )
        ]

    def __str__(self) -> str:
        return self.name


class BusinessHours(models.Model):
    """One open interval of a weekday (Monday = 0). Several intervals a day allow a lunch break."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(validators=[MaxValueValidator(6)])
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        ordering = ["calendar", "weekday", "opens"]
        verbose_name_plural = "business hours"
        constraints = [models.CheckConstraint(condition=models.Q(closes__gt=models.F("opens")), name="hours_order")]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"

    def get_weekday_display(self) -> str:
        return ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][self.weekday]


class Holiday(models.Model):
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["calendar", "date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="helpdesk_holiday_unique")]

    def __str__(self) -> str:
        return f"{self.date}: {self.name}"


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="led_teams"
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="helpdesk_teams")
    calendar = models.ForeignKey(BusinessCalendar, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Skill(models.Model):
    """Something a ticket may need (a product, a language, "billing"): matched against ticket category and language."""

    name = models.CharField(max_length=60, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AgentProfile(models.Model):
    """An agent's helpdesk side: skills, availability and how many open tickets they take at most."""

    class Availability(models.TextChoices):
        AVAILABLE = "available", "Available"
        BUSY = "busy", "Busy"
        AWAY = "away", "Away"
        OFFLINE = "offline", "Offline"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_profile")
    availability = models.CharField(max_length=10, choices=Availability.choices, default=Availability.AVAILABLE)
    skills = models.ManyToManyField(Skill, blank=True, related_name="agents")
    max_open_tickets = models.PositiveSmallIntegerField(
        default=25, validators=[MinValueValidator(1), MaxValueValidator(500)]
    )
    # Round-robin fairness: the agent who got a ticket longest ago goes first among equals.
    last_assigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["user__name"]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_availability_display()})"
