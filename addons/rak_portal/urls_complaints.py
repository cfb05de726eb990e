"""« Envoyer une réclamation », « Mes réclamations », « Signaler une fuite ou une coupure » (issue 11)."""

urlpatterns: list = []
