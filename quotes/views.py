"""Quote pages."""

from django.http import HttpResponse

from accounts.permissions import capability_required


@capability_required("quotes.view")
def quote_list(request):
    return HttpResponse("")
